-- guildls with nvim-lspconfig (Neovim 0.7 to 0.10; on 0.11+ prefer vim.lsp.config below)
vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
  pattern = { 'guild.yml', 'guild.yaml', '*.guild.yml', '*.guild.yaml' },
  callback = function() vim.bo.filetype = 'guild' end,
})
vim.api.nvim_create_autocmd('FileType', { pattern = 'guild', command = 'setlocal syntax=yaml shiftwidth=2 expandtab' })
local configs = require('lspconfig.configs')
if not configs.guildls then
  configs.guildls = {
    default_config = {
      cmd = { 'python3', '-m', 'guildls', 'serve' },
      filetypes = { 'guild' },
      root_dir = require('lspconfig.util').root_pattern('guild.yml', 'guild.yaml', '.git'),
      single_file_support = true,
    },
  }
end
require('lspconfig').guildls.setup({})
