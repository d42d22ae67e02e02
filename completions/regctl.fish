complete --keep-order --exclusive --command regctl --arguments "(COMPLETE=fish regctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
