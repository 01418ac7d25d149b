import { DOCUMENT, Injectable, inject, signal } from '@angular/core';
import { TranslateService } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';

export const languages = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '简体中文' },
  { code: 'ja', label: '日本語' },
  { code: 'ko', label: '한국어' },
] as const;
export type LanguageCode = (typeof languages)[number]['code'];

const KEY = 'sb.lang';

function initialLanguage(): LanguageCode {
  const stored = localStorage.getItem(KEY);
  const known = languages.find((l) => l.code === stored);
  if (known) return known.code;
  // First visit: the browser's preferred language among ours.
  const prefs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of prefs) {
    const lower = (l ?? '').toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('ja')) return 'ja';
    if (lower.startsWith('ko')) return 'ko';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

/** Runtime language switch: remembered in localStorage, default from the browser. */
@Injectable({ providedIn: 'root' })
export class LanguageService {
  private readonly translate = inject(TranslateService);
  private readonly document = inject(DOCUMENT);
  readonly current = signal<LanguageCode>('en');

  init(): Promise<unknown> {
    return this.use(initialLanguage(), false);
  }

  async use(lang: LanguageCode, remember = true): Promise<unknown> {
    this.current.set(lang);
    this.document.documentElement.lang = lang;
    if (remember) localStorage.setItem(KEY, lang);
    return firstValueFrom(this.translate.use(lang)).catch(() => undefined);
  }

  /** Preset prompts exist in English and Chinese; other languages get the English ones. */
  promptLocale(): 'en' | 'zh-CN' {
    return this.current() === 'zh-CN' ? 'zh-CN' : 'en';
  }

  instant(key: string, params?: Record<string, unknown>): string {
    return this.translate.instant(key, params) as string;
  }
}
