/**
 * `隐患 <描述>`: the line that turns the photo(s) just sent into a hazard report (issue #4, item 3).
 * Pure.
 *
 * Accepted: `隐患 法兰渗漏`, `隐患：法兰渗漏`, `隐患，法兰渗漏`, `＠安全助手 隐患 法兰渗漏`, full-width
 * spaces/colons, several lines (the first line names the hazard, everything is its description).
 * Not accepted: `隐患排查今天完成了` — the word must be followed by a separator, or ordinary group talk
 * about 隐患 would file reports whenever someone had just posted a picture.
 */
import { cleanChatText, foldWidth, stripMentions } from '../server/domain/chat-commands';

/** Longest hazard name taken from the first line, characters (Hazard.name holds 255). */
export const HAZARD_NAME_MAX_CHARS = 60;
/** Longest description kept, characters. */
export const HAZARD_DESCRIPTION_MAX_CHARS = 1000;

export interface HazardText {
  /** the first line, at most HAZARD_NAME_MAX_CHARS characters */
  name: string;
  /** the whole text after the keyword when it says more than the name, else null */
  description: string | null;
}

const clip = (s: string, max: number): string => {
  const cps = [...s];
  return cps.length <= max ? s : `${cps.slice(0, max - 1).join('')}…`;
};

/**
 * @param text the message text as delivered (mentions, full-width characters…)
 * @param botNames the bot's display names (so `@Safety Bot 隐患 …` parses)
 * @returns the hazard's name and description, or null when the text is not `隐患 <描述>`
 */
export function parseHazardText(text: string, botNames: string[] = []): HazardText | null {
  if (typeof text !== 'string' || text.length > 20_000) return null;
  const body = stripMentions(cleanChatText(text), botNames).trim();
  const folded = foldWidth(body);
  const m = /^(?:上报|报告)?隐患(?:上报|报告)?[ \n:,;，：、。]+/.exec(folded);
  if (!m) return null;
  const rest = body.slice(m[0].length).replace(/[ ]+/g, ' ').trim();
  if (!rest) return null;
  const lines = rest.split('\n').map((l) => l.trim()).filter(Boolean);
  const name = clip(lines[0], HAZARD_NAME_MAX_CHARS);
  const full = clip(lines.join('\n'), HAZARD_DESCRIPTION_MAX_CHARS);
  return { name, description: full === name ? null : full };
}
