/** A page that only says something: signed in on another device, refused, signed out. */
import { html } from './html.js';
import { page, type Page } from './layout.js';

export function messagePage(title: string, message: string, status = 200): Page {
  return page({ title, status, body: html`<h1>${title}</h1><p>${message}</p>` });
}
