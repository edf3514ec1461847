// Quoting for /bin/sh: spawn commands are shell text, and beanlab builds some (the embedded
// server's, beanstalkd's, paths put in for {socket} and {binlog}) and prints others back (replay
// lines that select the same target again). One function for all of them.

/** Characters that mean nothing special to the shell, so a word made only of them needs no quotes. */
const PLAIN_WORD = /^[A-Za-z0-9_/.:=@%+{}-]+$/;

/**
 * One word for /bin/sh: unchanged when it holds only plain characters, else single-quoted
 * (a `'` inside becomes `'\''`). `sh -c "echo " + shellQuote(x)` prints exactly x.
 */
export function shellQuote(word: string): string {
  return PLAIN_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
