interface ImportMeta {
  readonly env: { readonly BASE: string };
}
