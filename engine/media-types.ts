/**
 * What a recording's media is, as every stage and the catalog describe it:
 * codecs and picture size, from the stream's headers and onMetaData.
 * A leaf module: pipeline/, splice/ and the orchestrator all read it.
 */

export interface MediaDescription {
  videoCodec?: string;
  audioCodec?: string;
  width?: number;
  height?: number;
}
