import type { Generated } from 'kysely';
import type { Database } from '../../core/db/tables.js';

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

/** The images module's handle: the core's tables and its own (`app.db.withTables<TablesOf<ImagesTables>>()`). */
export type ImagesDatabase = Database & ImagesTables;
