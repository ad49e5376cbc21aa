/** Tailwind reads the templ sources (and generated Go) to keep only the classes in use. */
module.exports = {
  content: ['./views/**/*.templ', './views/**/*.go'],
  theme: {
    extend: {},
  },
  plugins: [],
};
