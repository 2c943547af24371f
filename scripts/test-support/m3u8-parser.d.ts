// Minimal typings for m3u8-parser 7 (the package ships none). Only what the
// test-support helpers use; the parser produces more fields than listed here.
declare module "m3u8-parser" {
  export interface ParsedSegment {
    uri: string;
    duration: number;
    title?: string;
    discontinuity?: boolean;
    timeline?: number;
    map?: { uri: string };
    byterange?: { length: number; offset: number };
  }

  export interface ParsedManifest {
    allowCache?: boolean;
    endList?: boolean;
    playlistType?: string;
    targetDuration?: number;
    mediaSequence?: number;
    discontinuitySequence?: number;
    discontinuityStarts?: number[];
    version?: number;
    segments: ParsedSegment[];
    playlists?: { uri: string; attributes: Record<string, unknown> }[];
  }

  export class Parser {
    constructor(options?: { uri?: string; mainDefinitions?: Record<string, string> });
    manifest: ParsedManifest;
    push(chunk: string): void;
    end(): void;
    on(event: "warn" | "info", listener: (entry: { message: string }) => void): void;
  }
}
