/**
 * When the AI answers in a group (docs/product.md §4): AUTO follows the conversation and
 * decides when to chime in, MENTIONS answers only when mentioned, OFF never answers.
 */
export const AI_MODES = ['AUTO', 'MENTIONS', 'OFF'] as const;
export type AiMode = (typeof AI_MODES)[number];
