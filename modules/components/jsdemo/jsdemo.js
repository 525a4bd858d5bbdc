export function reverse(s) {
  return [...s].reverse().join('');
}

export function analyze(text) {
  const words = text.split(/\s+/).filter(Boolean);
  const longestWord = words.reduce((a, w) => (a === undefined || w.length > a.length ? w : a), undefined);
  return { words: words.length, chars: [...text].length, longestWord };
}

// result<u16, string>: return the ok value, throw the err value
export async function fetchStatus(url) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw `fetch failed: ${e?.message ?? e}`;
  }
  return res.status;
}

export function shout(msg) {
  console.log(`stdout: ${msg}`);
  console.error(`stderr: ${msg}`);
  return msg.toUpperCase();
}

export function hang() {
  for (;;) {}
}
