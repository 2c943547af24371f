/** The object store `storage.url` names, or undefined when recordings stay on local disk only. */
import { resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../engine/errors.js";
import type { ServiceConfig } from "../config/config.js";
import { FolderStore } from "./folder-store.js";
import { S3Store } from "./s3-store.js";
import { parseStorageUrl } from "./storage-url.js";
import type { ObjectStore } from "./types.js";

export function createStore(config: Pick<ServiceConfig, "storage" | "dataDir">): ObjectStore | undefined {
  const { url } = config.storage;
  if (url === "") return undefined;
  if (url.startsWith("file:")) {
    const folder = resolve(fileURLToPath(url));
    const data = resolve(config.dataDir);
    if (folder === data || folder.startsWith(data + sep) || data.startsWith(folder + sep)) {
      throw new ConfigError("CONFIG_INVALID", "storage.url must be a folder outside the data folder (and not holding it)");
    }
    return new FolderStore(folder);
  }
  const { accessKeyId, secretAccessKey } = config.storage;
  return new S3Store(parseStorageUrl(url), accessKeyId ? { credentials: { accessKeyId, secretAccessKey } } : {});
}
