import { Type, type Static } from 'typebox';

/** The queue's settings (`queue:` in agora.yaml). */
export const QueueConfig = Type.Object(
  {
    /** How long the head of the line has to claim before it expires. */
    claim_window_s: Type.Integer({
      description: 'how long the head of the line has to claim before it expires',
      minimum: 1,
      maximum: 86_400,
      default: 60,
    }),
    /** How long a claimed picture is viewed; the head's clock is frozen meanwhile. */
    view_window_s: Type.Integer({
      description: "how long a claimed picture is viewed (the head's clock is frozen meanwhile)",
      minimum: 0,
      maximum: 86_400,
      default: 60,
    }),
    /** How long a cheater stays banned. */
    ban_s: Type.Integer({
      description: 'how long a cheater stays banned',
      minimum: 1,
      maximum: 30 * 86_400,
      default: 3600,
    }),
    /** How often each node applies due expiries (they are also applied on every request). */
    sweep_ms: Type.Integer({
      description: 'how often each node applies due expiries (also applied on every request)',
      minimum: 100,
      maximum: 600_000,
      default: 1000,
    }),
    /** The image album the pictures come from. */
    album: Type.String({
      description: 'the image album pictures come from',
      pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
      default: 'kitties',
    }),
    /**
     * The original's profile (Cats Queue Management System): its page at the queue's root and
     * codes handed out lowest free first.
     */
    compat: Type.Boolean({
      description:
        "the original client's profile: its page at the queue's root, the lowest free code first",
      default: false,
    }),
    /** Draw a few demo cats into the album at first start when it is empty. */
    demo_pictures: Type.Boolean({
      description: 'draw demo cats into the album at first start when it is empty',
      default: true,
    }),
  },
  { additionalProperties: false, default: {} },
);
export type QueueConfig = Static<typeof QueueConfig>;
