import type { Generated } from 'kysely';

export interface ImagesImagesTable {
  id: Generated<number>;
  public_id: string;
  sha256: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  filename: string | null;
  album: string | null;
  created_at: string;
}

export interface ImagesDerivedTable {
  key: string;
  source_sha256: string;
  blob_sha256: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  created_at: string;
}

export interface ImagesTables {
  images_images: ImagesImagesTable;
  images_derived: ImagesDerivedTable;
}
