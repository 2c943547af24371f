/** The control services the HTTP API (and through it the CLI and console) drive. */
import type { MediaLibrary } from "../media/media-library.js";
import type { CallbackControl } from "./callback-control.js";
import type { LiveControl } from "./live-control.js";
import type { RecordingControl } from "./recording-control.js";

export interface ControlServices {
  recording: RecordingControl;
  callbacks: CallbackControl;
  live: LiveControl;
  media: MediaLibrary;
}
