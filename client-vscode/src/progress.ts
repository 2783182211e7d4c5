// Server-created work done progress: vscode-languageclient shows it in the
// status bar only, without a Cancel button. We take over
// window/workDoneProgress/create so that cancellable progress (a run) becomes
// a notification whose Cancel sends window/workDoneProgress/cancel.
import * as vscode from 'vscode';
import {
  LanguageClient,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateParams,
  WorkDoneProgressCreateRequest,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { ext } from './context';

export function takeOverProgress(lc: LanguageClient): vscode.Disposable {
  return lc.onRequest(WorkDoneProgressCreateRequest.type, (params) => trackProgress(lc, params));
}

function trackProgress(lc: LanguageClient, params: WorkDoneProgressCreateParams): null {
  const token = params.token;
  let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  let done: (() => void) | undefined;
  let ended = false;
  let reported = 0;
  const report = (v: WorkDoneProgressBegin | WorkDoneProgressReport) => {
    if (!reporter) return;
    let increment: number | undefined;
    if (typeof v.percentage === 'number') {
      increment = Math.max(0, v.percentage - reported);
      reported = Math.max(reported, v.percentage);
    }
    reporter.report({ message: v.message, increment });
  };
  const sub = lc.onProgress(WorkDoneProgress.type, token, (value) => {
    if (value.kind === 'begin') {
      const location = value.cancellable ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window;
      void vscode.window.withProgress({ location, title: value.title, cancellable: !!value.cancellable }, (progress, ct) => {
        reporter = progress;
        report(value);
        ct.onCancellationRequested(() => {
          ext.log.info(`progress "${value.title}" cancelled by the user: window/workDoneProgress/cancel`);
          void lc.sendNotification(WorkDoneProgressCancelNotification.type, { token });
        });
        return new Promise<void>((resolve) => { done = resolve; if (ended) resolve(); });
      });
    } else if (value.kind === 'report') {
      report(value);
    } else {
      ended = true;
      sub.dispose();
      done?.();
    }
  });
  return null;
}
