// Loaded lazily (dynamic import) by MarkdownRenderer: marked, DOMPurify and highlight.js stay
// out of the initial bundle.
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import scss from 'highlight.js/lib/languages/scss';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { Marked, type Tokens } from 'marked';

const langs = {
  bash, c, cpp, csharp, css, diff, go, java, javascript, json, kotlin, markdown, php, plaintext,
  python, ruby, rust, scss, shell, sql, swift, typescript, xml, yaml,
};
for (const [name, lang] of Object.entries(langs)) hljs.registerLanguage(name, lang);
hljs.registerAliases(['sh', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.registerAliases(['js', 'jsx', 'mjs'], { languageName: 'javascript' });
hljs.registerAliases(['ts', 'tsx'], { languageName: 'typescript' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });
hljs.registerAliases(['text', 'txt'], { languageName: 'plaintext' });

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }: Tokens.Code): string {
      const name = (lang ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      let html: string;
      let used = name;
      if (name && hljs.getLanguage(name)) {
        html = hljs.highlight(text, { language: name, ignoreIllegals: true }).value;
      } else {
        // A block without a (known) language is shown as plain text, not guessed and coloured.
        html = escapeHtml(text);
        used = name || 'text';
        const label = escapeHtml(used.replace(/[^\w+-]/g, ''));
        return `<pre data-lang="${label}"><code class="language-${label} plain">${html}</code></pre>\n`;
      }
      const cls = `hljs language-${escapeHtml(used.replace(/[^\w+-]/g, ''))}`;
      return `<pre data-lang="${escapeHtml(used.replace(/[^\w+-]/g, ''))}"><code class="${cls}">${html}</code></pre>\n`;
    },
  },
});

// Links from model output open in a new tab and never get the opener.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

/** Markdown → sanitised HTML (GitHub-flavoured, code highlighted). */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false }) as string;
  const fragment = DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'button', 'textarea', 'select'],
    FORBID_ATTR: ['style'],
    RETURN_DOM_FRAGMENT: true,
  });
  // Task lists ("- [x] done"): marked's disabled checkboxes are the only inputs kept.
  for (const input of Array.from(fragment.querySelectorAll('input'))) {
    const isTask = input.getAttribute('type') === 'checkbox' && input.closest('li') !== null;
    if (!isTask) {
      input.remove();
      continue;
    }
    const checked = input.hasAttribute('checked');
    for (const attr of Array.from(input.attributes)) input.removeAttribute(attr.name);
    input.setAttribute('type', 'checkbox');
    input.setAttribute('disabled', '');
    if (checked) input.setAttribute('checked', '');
    input.closest('li')!.classList.add('task');
  }
  // Remote images in model output are never loaded: a prompt injection could leak conversation
  // text through an image URL. They become a plain link (data: and blob: images stay, they go nowhere).
  for (const img of Array.from(fragment.querySelectorAll('img'))) {
    const src = (img.getAttribute('src') ?? '').trim();
    if (/^(data:image\/|blob:)/i.test(src)) continue;
    const link = fragment.ownerDocument.createElement('a');
    link.textContent = img.getAttribute('alt') || src || 'image';
    if (/^https?:\/\//i.test(src)) {
      link.href = src;
      link.target = '_blank';
      link.rel = 'noopener noreferrer nofollow';
    }
    link.className = 'remote-image';
    img.replaceWith(link);
  }
  // Serialized in the sanitizer's inert document: nothing here is fetched.
  const holder = fragment.ownerDocument.createElement('div');
  holder.appendChild(fragment);
  return holder.innerHTML;
}
