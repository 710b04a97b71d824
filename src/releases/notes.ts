// Release notes from the commits of a range, parsed as conventional commits by conventional-commits-parser and
// grouped as Ontos' release notes template groups them: New features, Improvements, Bug fixes, Database changes
// (migrations added in the range), Breaking changes (`!` and BREAKING CHANGE footers), Deployment notes, Contributors.
import { CommitParser } from 'conventional-commits-parser';

export interface RangeCommit {
  sha: string;
  /** The whole message (header, body, footers). */
  message: string;
  author: string;
}

export interface ReleaseNotes {
  features: string[];
  improvements: string[];
  fixes: string[];
  database: string[];
  breaking: string[];
  deployment: string[];
  /** Commits that follow no convention, listed as they are so nothing is silently left out. */
  other: string[];
  contributors: string[];
  /** How many commits the range holds, and how many of them were conventional. */
  commitCount: number;
  conventional: number;
}

// `!` before the colon marks a breaking change (Conventional Commits 1.0); the default header pattern has no `!`.
const parser = new CommitParser({
  headerPattern: /^(\w*)(?:\(([\w$@.\-*/ ]*)\))?!?: (.*)$/,
  breakingHeaderPattern: /^(\w*)(?:\(([\w$@.\-*/ ]*)\))?!: (.*)$/,
  noteKeywords: ['BREAKING CHANGE', 'BREAKING-CHANGE', 'DEPLOY', 'DEPLOYMENT'],
});

/** Types that are improvements to what exists (perf, refactor, …); chores, docs, tests, CI and style are not release news. */
const IMPROVEMENT_TYPES = new Set(['perf', 'refactor', 'improvement', 'improve', 'ui', 'ux']);
const QUIET_TYPES = new Set(['chore', 'docs', 'test', 'tests', 'ci', 'build', 'style']);

function line(subject: string, scope: string | null | undefined, sha: string): string {
  return `${scope ? `*${scope}:* ` : ''}${subject} (${sha.slice(0, 7)})`;
}

/** Groups the range's commits; `addedFiles` are the files the range adds (migrations are picked from them). */
export function draftNotes(commits: readonly RangeCommit[], addedFiles: readonly string[], migrations: RegExp): ReleaseNotes {
  const notes: ReleaseNotes = { features: [], improvements: [], fixes: [], database: [], breaking: [], deployment: [], other: [], contributors: [], commitCount: commits.length, conventional: 0 };
  const people = new Set<string>();
  for (const c of commits) {
    people.add(c.author);
    const parsed = parser.parse(c.message);
    if (parsed.merge) continue; // the merged commits themselves are in the range
    const type = parsed.type?.toLowerCase();
    const subject = parsed.subject ?? parsed.header ?? c.message.split('\n')[0] ?? '';
    for (const note of parsed.notes) {
      if (/^BREAKING/i.test(note.title)) notes.breaking.push(`${note.text.trim() || subject} (${c.sha.slice(0, 7)})`);
      else notes.deployment.push(`${note.text.trim()} (${c.sha.slice(0, 7)})`);
    }
    if (!type) {
      if (!/^Merge /.test(subject)) notes.other.push(`${subject} (${c.sha.slice(0, 7)})`);
      continue;
    }
    notes.conventional += 1;
    if (type === 'feat' || type === 'feature') notes.features.push(line(subject, parsed.scope, c.sha));
    else if (type === 'fix' || type === 'bugfix' || type === 'hotfix') notes.fixes.push(line(subject, parsed.scope, c.sha));
    else if (IMPROVEMENT_TYPES.has(type)) notes.improvements.push(line(subject, parsed.scope, c.sha));
    else if (!QUIET_TYPES.has(type)) notes.other.push(line(subject, parsed.scope, c.sha));
  }
  for (const file of addedFiles) {
    if (!migrations.test(file)) continue;
    notes.database.push(`Adds \`${file}\``);
    notes.deployment.push(`Run migration: \`${file}\``);
  }
  notes.contributors = [...people].sort((a, b) => a.localeCompare(b));
  return notes;
}

export function isBreaking(notes: ReleaseNotes): boolean {
  return notes.breaking.length > 0;
}

/** The notes as Markdown (GitHub release, CHANGELOG) in the Ontos template's order; empty groups say "None" where the template does. */
export function notesMarkdown(tag: string, date: string, notes: ReleaseNotes): string {
  const section = (title: string, items: string[], none?: string) => (items.length ? [`## ${title}`, ...items.map((i) => `- ${i}`), ''] : none ? [`## ${title}`, none, ''] : []);
  const out = [
    `# Release ${tag} - ${date}`,
    '',
    ...section('New Features', notes.features),
    ...section('Improvements', notes.improvements),
    ...section('Bug Fixes', notes.fixes),
    ...section('Database Changes', notes.database),
    ...section('Breaking Changes', notes.breaking, 'None'),
    ...section('Other Changes', notes.other),
    ...section('Deployment Notes', notes.deployment),
    ...section('Contributors', notes.contributors.length ? [notes.contributors.join(', ')] : []),
  ];
  if (notes.commitCount === 0) out.push('No commits since the previous release.', '');
  else if (notes.conventional === 0) out.push(`None of the ${notes.commitCount} commits follows the conventional commit format, so they are listed under Other Changes as written.`, '');
  return out.join('\n').replace(/\n+$/, '\n');
}

/** Markdown → Slack mrkdwn for the review thread: headings bold, bullets kept. */
export function markdownToMrkdwn(markdown: string): string {
  return markdown.split('\n').map((l) => l.replace(/^#{1,6} (.*)$/, '*$1*').replace(/^- /, '• ').replace(/\*\*(.+?)\*\*/g, '*$1*')).join('\n');
}
