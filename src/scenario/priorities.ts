// Priority classes: results are broken down by class name (critical, high, normal, low, or
// whatever the scenario defines), and producers draw each job's priority from their mix.
import type { Scenario } from './schema.js';
import type { Random } from './random.js';

export interface PriorityChoice {
  pri: number;
  classIndex: number;
}

export type PriorityPicker = (random: Random) => PriorityChoice;

export interface PriorityClasses {
  /** Class names in priority order (most urgent first). */
  names: string[];
  /** One picker per producer, in scenario order. */
  pickers: PriorityPicker[];
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

  const pickers = scenario.producers.map((p): PriorityPicker => {
    if (typeof p.priority !== 'object') {
      const name = typeof p.priority === 'number' ? nameOf(p.priority) : p.priority;
      const choice = { pri: used.get(name)!, classIndex: indexOf(name) };
      return () => choice;
    }
    const entries = Object.entries(p.priority);
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    const choices = entries.map(([name]) => ({ pri: classes[name], classIndex: indexOf(name) }));
    const cumulative: number[] = [];
    let sum = 0;
    for (const [, weight] of entries) cumulative.push((sum += weight / total));
    return (random) => {
      const u = random.uniform();
      for (let i = 0; i < cumulative.length - 1; i++) if (u < cumulative[i]) return choices[i];
      return choices[choices.length - 1];
    };
  });
  return { names, pickers };
}
