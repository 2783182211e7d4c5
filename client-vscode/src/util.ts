// Small helpers shared by the extension's modules.
import * as path from 'path';
import * as vscode from 'vscode';

export const GUILD_GLOB = '**/{guild.yml,guild.yaml,*.guild.yml,*.guild.yaml}';

export function isGuildDocument(d: vscode.TextDocument): boolean {
  if (d.languageId === 'guild') return true;
  return d.uri.scheme === 'file' && /(^|\.)guild\.ya?ml$/.test(path.basename(d.uri.fsPath));
}

export function errText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))]);
}
