// Tests that need a real beanstalkd: run when it is installed; when it is missing they are
// skipped locally but FAIL under CI=true, so a CI image without beanstalkd cannot pass green.
import { describe, it } from 'vitest';
import { findBeanstalkd } from '../../src/target/spawn.js';

export const beanstalkdPath: string | undefined = findBeanstalkd();

const inCi = process.env.CI === 'true';

/** `describe` whose tests need beanstalkd (see the file comment). */
export function describeWithBeanstalkd(name: string, body: (binary: string) => void): void {
  if (beanstalkdPath) {
    describe(name, () => body(beanstalkdPath));
  } else if (inCi) {
    describe(name, () => {
      it('has beanstalkd installed (required when CI=true)', () => {
        throw new Error('beanstalkd not found on PATH or in $BEANSTALKD, and CI=true requires it');
      });
    });
  } else {
    describe.skip(`${name} (beanstalkd not installed)`, () => body(''));
  }
}
