# Thin wrappers over npm scripts, for those who type `make`.
.PHONY: install start test build lint fixtures ci

install:
	npm ci

start:
	npm start

test:
	npm test

build:
	npm run build

lint:
	npm run lint

fixtures:
	npm run fixtures

ci:
	bash .ci/run
