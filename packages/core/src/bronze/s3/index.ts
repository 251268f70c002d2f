/**
 * The S3 bronze target. Loaded lazily by `createTarget` for `BRONZE_URL=s3://…` (see `targets.ts`),
 * so no other run loads the AWS SDK.
 */
export { S3Target, s3TargetFromUrl, type S3TargetOptions } from './target.js';
export { S3StreamSink, type S3SinkSetup } from './sink.js';
export { S3StreamLayout, STAGING_DIR } from './layout.js';
export { parseS3Url, s3Error, type S3Location } from './client.js';
export { loadS3State, saveS3State, resetS3State, stateObjectKey } from './state.js';
