import type { ReactNode } from 'react';
import { Layout as RaLayout, Menu } from 'react-admin';
import GridIcon from '@mui/icons-material/GridOn';

function AppMenu() {
  return (
    <Menu>
      <Menu.DashboardItem />
      <Menu.ResourceItem name="SafetyCase" />
      <Menu.ResourceItem name="User" />
      <Menu.ResourceItem name="ModelResponse" />
      <Menu.ResourceItem name="RolloutRule" />
      <Menu.Item to="/rollout-grid" primaryText="Rollout grid" leftIcon={<GridIcon />} data-testid="menu-rollout-grid" />
      <Menu.ResourceItem name="AuditEntry" />
    </Menu>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  return <RaLayout menu={AppMenu}>{children}</RaLayout>;
}
