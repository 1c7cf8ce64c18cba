'use client';
/**
 * Re-renders the page's server components every `seconds` (router.refresh: new data, no full
 * reload, scroll and form state kept), so a watched run's page follows it as it goes.
 */
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

export function AutoRefresh(props: { seconds: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), props.seconds * 1000);
    return () => clearInterval(timer);
  }, [router, props.seconds]);
  return null;
}
