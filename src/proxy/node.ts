// Placeholder: replaced by its issue's implementation.
export {};
