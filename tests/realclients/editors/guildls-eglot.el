;; guildls with Emacs Eglot (Emacs 29 has Eglot built in; Emacs 28: the elpa-eglot package)
(define-derived-mode guild-mode prog-mode "Guild"
  "Guild AI guild files (derive from `yaml-mode' instead when you have it)."
  (setq-local comment-start "# ")
  (setq-local tab-width 2)
  (setq-local indent-tabs-mode nil))
(add-to-list 'auto-mode-alist '("\\(?:\\`\\|/\\)guild\\.ya?ml\\'" . guild-mode))
(add-to-list 'auto-mode-alist '("\\.guild\\.ya?ml\\'" . guild-mode))
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs '(guild-mode . ("python3" "-m" "guildls" "serve"))))
(add-hook 'guild-mode-hook #'eglot-ensure)
