/** The database's reachability as JSON, for the error page (and for people: curl /health). */
import { databaseHealth } from '../../../db/dashboard/health.ts';

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const database = await databaseHealth();
  return Response.json({ database }, { status: database.reachable ? 200 : 503 });
}
