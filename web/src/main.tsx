// Strand's web UI: routes, the header with navigation and "open trace by ID".
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { Link, navigate, useLocation } from './router';
import { normalizeTraceId } from './format';
import { SearchPage } from './pages/SearchPage';
import { TracePage } from './pages/TracePage';
import { MapPage } from './pages/MapPage';
import './styles.css';

function OpenTrace() {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    const id = normalizeTraceId(value);
    if (!id) {
      setError('A trace ID is up to 32 hex digits.');
      return;
    }
    setError('');
    setValue('');
    navigate(`/trace/${id}`);
  };
  return (
    <form class="open-trace" onSubmit={submit} role="search" aria-label="Open a trace by ID">
      <input value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        placeholder="Trace ID" aria-label="Trace ID" aria-invalid={!!error} aria-describedby={error ? 'open-trace-error' : undefined}
        spellcheck={false} autocomplete="off" />
      <button type="submit">Open</button>
      {error && <span id="open-trace-error" class="field-error" role="alert">{error}</span>}
    </form>
  );
}

function NotFound() {
  return (
    <main class="page">
      <div class="state empty"><strong>No such page.</strong> <Link href="/">Search traces</Link> or open the <Link href="/map">service map</Link>.</div>
    </main>
  );
}

function App() {
  const loc = useLocation();
  const traceMatch = /^\/trace\/([0-9a-fA-F]{1,32})\/?$/.exec(loc.path);
  let page;
  let section = '';
  if (loc.path === '/' || loc.path === '/search' || loc.path === '/index.html') {
    page = <SearchPage loc={loc} />;
    section = 'search';
  } else if (traceMatch) {
    const id = normalizeTraceId(traceMatch[1])!;
    page = <TracePage key={id} id={id} loc={loc} />;
    section = 'trace';
  } else if (loc.path === '/map') {
    page = <MapPage loc={loc} />;
    section = 'map';
  } else {
    page = <NotFound />;
  }
  return (
    <>
      <a class="skip" href="#content">Skip to content</a>
      <header class="app-header">
        <Link href="/" class="brand" aria-label="Strand home">Strand</Link>
        <nav aria-label="Main">
          <Link href="/search" aria-current={section === 'search' ? 'page' : undefined}>Search</Link>
          <Link href="/map" aria-current={section === 'map' ? 'page' : undefined}>Service map</Link>
        </nav>
        <OpenTrace />
      </header>
      <div id="content" class="content">{page}</div>
    </>
  );
}

render(<App />, document.getElementById('app')!);
