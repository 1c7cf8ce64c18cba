/**
 * The filter forms' controls: a labelled select written once, and the sweep and family choices
 * (from db/dashboard/filters.ts) that every ranked or plotted page offers.
 */
import type { FilterOptions } from '../../db/dashboard/filters.ts';
import { SUMMARY_METRIC_NAMES, SUMMARY_METRICS } from '../../lib/metrics/display.ts';

export interface Choice {
  value: string;
  label: string;
}

export function SelectField(props: {
  label: string;
  name: string;
  value: string | string[];
  /** Plain strings are their own labels. */
  choices: readonly (string | Choice)[];
  /** The label of a leading empty choice ("all"), when there is one. */
  empty?: string;
  testId?: string;
  multiple?: boolean;
  size?: number;
}) {
  return (
    <label>
      {props.label}
      <select
        name={props.name}
        defaultValue={props.value}
        multiple={props.multiple}
        size={props.size}
        data-testid={props.testId}
      >
        {props.empty !== undefined && <option value="">{props.empty}</option>}
        {props.choices.map((choice) => {
          const { value, label } = typeof choice === 'string' ? { value: choice, label: choice } : choice;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </label>
  );
}

/** The summary metrics by their labels, in table order. */
export const SUMMARY_METRIC_CHOICES: readonly Choice[] = SUMMARY_METRIC_NAMES.map((metric) => ({
  value: metric,
  label: SUMMARY_METRICS[metric].label,
}));

export function sweepChoices(options: FilterOptions): Choice[] {
  return options.sweeps.map((sweep) => ({ value: sweep.id, label: sweep.name }));
}

/** One sweep (or all) and one family (or all): the leaderboard's and the accuracy page's filter. */
export function SweepFamilyFields(props: {
  options: FilterOptions;
  sweepId: string | null;
  family: string | null;
}) {
  return (
    <>
      <SelectField
        label="Sweep"
        name="sweep"
        value={props.sweepId ?? ''}
        choices={sweepChoices(props.options)}
        empty="all"
        testId="filter-sweep"
      />
      <SelectField
        label="Family"
        name="family"
        value={props.family ?? ''}
        choices={props.options.families}
        empty="all"
        testId="filter-family"
      />
    </>
  );
}
