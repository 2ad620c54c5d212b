/**
 * The page router: `/targets` is the pull-mode Targets page, every other UI path the profile views
 * (main.ts). Each page is its own chunk, so the Targets page never loads the flame graph code.
 */
import './style.css';

const page = location.pathname.replace(/\/+$/, '');
if (page === '/targets') void import('./targets-page.js').then((m) => m.mountTargetsPage());
else void import('./main.js');
