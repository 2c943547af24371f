/// <reference types="vite/client" />

// hls.js ships no declaration file next to its "light" build; it is the same API.
declare module "hls.js/light" {
  export { default } from "hls.js";
  export * from "hls.js";
}
