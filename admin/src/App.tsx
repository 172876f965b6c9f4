import { Admin, CustomRoutes, Resource } from 'react-admin';
import { Route } from 'react-router-dom';
import { authProvider } from './authProvider';
import { dataProvider } from './dataProvider';
import { Dashboard } from './dashboard/Dashboard';
import { Layout } from './Layout';
import { LoginPage } from './LoginPage';
import safetyCases from './safety-cases';
import users from './users';
import modelResponses from './model-responses';
import rollout, { RolloutGridPage } from './rollout';
import audit from './audit';

export function App() {
  return (
    <Admin title="Roundtable staff" dataProvider={dataProvider} authProvider={authProvider} dashboard={Dashboard} loginPage={LoginPage} layout={Layout} requireAuth disableTelemetry>
      <Resource name="SafetyCase" {...safetyCases} />
      <Resource name="User" {...users} />
      <Resource name="ModelResponse" {...modelResponses} />
      <Resource name="RolloutRule" {...rollout} />
      <Resource name="AuditEntry" {...audit} />
      <CustomRoutes>
        <Route path="/rollout-grid" element={<RolloutGridPage />} />
      </CustomRoutes>
    </Admin>
  );
}
