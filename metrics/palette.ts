/**
 * The report's colours: the Okabe–Ito palette, chosen because its eight colours stay apart for the common
 * forms of colour blindness. Every chart and the page's CSS take their colours from here, and no chart
 * tells two things apart by colour alone (labels or line dashes carry the same distinction).
 * @module
 */

/** Okabe & Ito (2008), "Color Universal Design": the eight colours by name. */
export const OKABE_ITO = {
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
  black: "#000000",
} as const;

/** A neutral grey for "other" and for what is not data (whiskers, rules). */
export const NEUTRAL_GREY = "#999999";

/**
 * The palette in the order categorical scales use it, then grey for a ninth category.
 * @example
 * ```ts
 * const scale = { domain: stages, range: CATEGORY_COLORS };
 * ```
 */
export const CATEGORY_COLORS = [
  OKABE_ITO.blue,
  OKABE_ITO.orange,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.vermillion,
  OKABE_ITO.yellow,
  OKABE_ITO.black,
  NEUTRAL_GREY,
] as const;

/** Per phase: insecure in vermillion (what went wrong), secure in blue. */
export const PHASE_COLORS = { insecure: OKABE_ITO.vermillion, secure: OKABE_ITO.blue } as const;

/**
 * Text colour that reads on a fill of the palette: white on the dark colours, near-black on the light.
 * @example
 * ```ts
 * inkOn(OKABE_ITO.yellow); // "#1d2330"
 * ```
 */
export function inkOn(fill: string): string {
  const dark: string[] = [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.black, OKABE_ITO.bluishGreen];
  return dark.includes(fill) ? "#ffffff" : "#1d2330";
}
