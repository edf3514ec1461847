// Priority classes: results are broken down by class name (critical, high, normal, low, or
// whatever the scenario defines), and producers draw each job's priority from their mix.
import type { Scenario } from './schema.js';
import type { Random } from './random.js';

export interface PriorityChoice {
  pri: number;
  classIndex: number;
}

export type PriorityPicker = (random: Random) => PriorityChoice;

/** A producer's priority mix as a function of one uniform draw (`draws` is 0 for a single class). */
export interface PriorityChooser {
  draws: 0 | 1;
  choose(u: number): PriorityChoice;
}

export interface PriorityClasses {
  /** Class names in priority order (most urgent first). */
  names: string[];
  /** One picker per producer, in scenario order. */
  pickers: PriorityPicker[];
  /** The same mixes, one per producer, driven by a uniform the caller draws (src/workload). */
  choosers: PriorityChooser[];
}

/**
 * The classes the scenario's producers use. A bare number that matches a class's value counts
 * as that class; any other number forms its own class named `pri N`.
 */
export function classifyPriorities(scenario: Scenario): PriorityClasses {
  const classes = scenario.priorityClasses;
  const byValue = new Map<number, string>();
  for (const [name, pri] of Object.entries(classes)) if (!byValue.has(pri)) byValue.set(pri, name);
  const used = new Map<string, number>();
  const use = (name: string, pri: number) => used.set(name, pri);
  const nameOf = (pri: number) => byValue.get(pri) ?? `pri ${pri}`;
  for (const p of scenario.producers) {
    if (typeof p.priority === 'number') use(nameOf(p.priority), p.priority);
    else if (typeof p.priority === 'string') use(p.priority, classes[p.priority]);
    else for (const name of Object.keys(p.priority)) use(name, classes[name]);
  }
  const names = [...used.keys()].sort((a, b) => used.get(a)! - used.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
  const indexOf = (name: string) => names.indexOf(name);

  const choosers = scenario.producers.map((p): PriorityChooser => {
    if (typeof p.priority !== 'object') {
      const name = typeof p.priority === 'number' ? nameOf(p.priority) : p.priority;
      const choice = { pri: used.get(name)!, classIndex: indexOf(name) };
      return { draws: 0, choose: () => choice };
    }
    const entries = Object.entries(p.priority);
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    const choices = entries.map(([name]) => ({ pri: classes[name], classIndex: indexOf(name) }));
    const cumulative: number[] = [];
    let sum = 0;
    for (const [, weight] of entries) cumulative.push((sum += weight / total));
    return {
      draws: 1,
      choose: (u) => {
        for (let i = 0; i < cumulative.length - 1; i++) if (u < cumulative[i]) return choices[i];
        return choices[choices.length - 1];
      },
    };
  });
  const pickers = choosers.map((c): PriorityPicker => (c.draws === 0 ? () => c.choose(0) : (random) => c.choose(random.uniform())));
  return { names, pickers, choosers };
}
