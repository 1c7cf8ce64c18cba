/** A table's header row; `{ text }` columns are left-aligned like their cells (class "text"). */
export type Column = string | { text: string };

export function TableHead({ columns }: { columns: readonly Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) =>
          typeof column === 'string' ? (
            <th key={column}>{column}</th>
          ) : (
            <th key={column.text} className="text">
              {column.text}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/** Left-aligned columns, in order. */
export function textColumns(...labels: string[]): Column[] {
  return labels.map((text) => ({ text }));
}
