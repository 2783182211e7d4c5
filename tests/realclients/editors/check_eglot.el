;;; check_eglot.el --- load the README's Eglot set-up, open a guild.yml, report what Emacs shows
;; emacs --batch -Q -l check_eglot.el -- SETUP.el FILE OUT.json
(dolist (d (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
  (add-to-list 'load-path d))
(require 'json)
(let* ((args (member "--" command-line-args))
       (setup (nth 1 args)) (file (nth 2 args)) (out (nth 3 args))
       (res (list)) (deadline (+ (float-time) 90)))
  (load setup nil t)
  (require 'eglot)
  (find-file file)
  ;; eglot-ensure connects after the command that opened the file: in batch there is no
  ;; command loop, so run what it would run after `find-file'
  (run-hooks 'post-command-hook)
  (setq res (plist-put res :mode (symbol-name major-mode)))
  ;; wait for the server and for Flymake to show its diagnostics
  (while (and (< (float-time) deadline)
              (not (and (eglot-current-server) (flymake-diagnostics))))
    (accept-process-output nil 0.1))
  (setq res (plist-put res :server (if (eglot-current-server) t :json-false)))
  (setq res (plist-put res :diagnostics
                       (vconcat (mapcar (lambda (d) (list :line (line-number-at-pos (flymake-diagnostic-beg d))
                                                           :text (flymake-diagnostic-text d)))
                                        (flymake-diagnostics)))))
  (with-temp-file out (insert (json-encode res)))
  (kill-emacs 0))
