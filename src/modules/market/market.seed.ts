/** The ten products of the original `setup.py`, and the `setup [reset] [amount]` rules. */

export const SEED_PRODUCTS: readonly { description: string; price: number }[] = [
  { description: 'apple', price: 10 },
  { description: 'banana', price: 15 },
  { description: 'orange', price: 20 },
  { description: 'milk', price: 25 },
  { description: 'vegetable', price: 30 },
  { description: 'beef', price: 35 },
  { description: 'chocolate', price: 40 },
  { description: 'water', price: 45 },
  { description: 'milk tea', price: 50 },
  { description: 'beer', price: 55 },
];

export interface SetupOptions {
  /** Wipe every product and re-insert the seeds with ids 1–10. */
  reset: boolean;
  /** Stock for every seed product; missing or 0: a random 0–10 for each product inserted. */
  amount?: number;
}

export interface SetupReport {
  inserted: string[];
  restocked: string[];
}
