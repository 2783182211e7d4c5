-- nvim --headless --clean -u check_nvim.lua: loads the README's set-up (SETUP env), opens FILE,
-- waits for the server's diagnostics, writes OUT (JSON) and quits.
vim.opt.runtimepath:prepend(os.getenv('LSPCONFIG'))
dofile(os.getenv('SETUP'))
-- after start-up (filetype detection is switched on after the init file)
vim.api.nvim_create_autocmd('VimEnter', { nested = true, callback = function()
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('FILE')))
  local buf = vim.api.nvim_get_current_buf()
  local ok = vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 100)
  local clients = {}
  for _, c in pairs(vim.lsp.buf_get_clients(buf)) do table.insert(clients, c.name) end
  local diags = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do table.insert(diags, { line = d.lnum, message = d.message }) end
  local f = io.open(os.getenv('OUT'), 'w')
  f:write(vim.fn.json_encode({ filetype = vim.bo[buf].filetype, clients = clients, diagnostics = diags, waited = ok,
    version = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) }))
  f:close()
  vim.cmd('qa!')
end })
