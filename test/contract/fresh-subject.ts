/**
 * The way every contract suite runs a test: a fresh subject from the implementation's
 * factory for each test, cleaned up whatever happens, so that no test sees another's state.
 */
import { test, type TestContext } from 'node:test';

export interface Subject {
  cleanup: () => Promise<void>;
}

export interface SubjectHarness<S extends Subject> {
  /** A test with a fresh subject from the factory, cleaned up whatever happens. */
  it(title: string, body: (subject: S, t: TestContext) => Promise<void>): void;
}

/** `check` asserts what the suite needs of every subject before a test uses it. */
export function freshSubject<S extends Subject>(factory: () => Promise<S>, check?: (subject: S) => void): SubjectHarness<S> {
  return {
    it(title, body) {
      test(title, async (t) => {
        const subject = await factory();
        try {
          check?.(subject);
          await body(subject, t);
        } finally {
          await subject.cleanup();
        }
      });
    },
  };
}
