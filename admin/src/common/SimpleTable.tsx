import { Table, TableBody, TableCell, TableHead, TableRow } from '@mui/material';
import type { ReactElement, ReactNode } from 'react';
import { EmptyState } from './Empty';

export interface Column<T> {
  label: string;
  value: (row: T) => ReactNode;
  align?: 'right';
}

/** A small read-only table, or an empty state when there are no rows. */
export function SimpleTable<T>({ rows, columns, rowKey, testId, empty }: { rows: readonly T[]; columns: Column<T>[]; rowKey: (row: T) => string; testId: string; empty: string }): ReactElement {
  if (rows.length === 0) return <EmptyState title={empty} />;
  return (
    <Table size="small" data-testid={testId}>
      <TableHead>
        <TableRow>
          {columns.map((c) => (
            <TableCell key={c.label} align={c.align}>
              {c.label}
            </TableCell>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map((r) => (
          <TableRow key={rowKey(r)}>
            {columns.map((c) => (
              <TableCell key={c.label} align={c.align}>
                {c.value(r)}
              </TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
