import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: 'weightlens',
  description: 'Predicted model quality from heavy-tailed spectra and curvature',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="top">
          <Link className="brand" href="/">
            weightlens
          </Link>
          <nav>
            <Link href="/">Leaderboard</Link>
            <Link href="/trends">Trends</Link>
            <Link href="/compare">Compare</Link>
            <Link href="/accuracy">Metric vs accuracy</Link>
            <Link href="/sweeps">Sweeps</Link>
            <Link href="/schedules">Schedules</Link>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
