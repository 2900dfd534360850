/**
 * Client libraries for Agora's APIs, exported as `agora/client`.
 */
export {
  contentTypeOf,
  ImagesApiError,
  ImagesClient,
  type BatchResult,
  type Fit,
  type Format,
  type ImageData,
  type ImageMeta,
  type ImagesClientOptions,
  type Ops,
} from './images.js';
