/** Tailwind reads the templ sources (and generated Go) to keep only the classes in use. */
const colors = require('tailwindcss/colors');

module.exports = {
  content: ['./views/**/*.templ', './views/**/*.go'],
  theme: {
    extend: {
      // The UI kit's colours by role. Text in them keeps a contrast of at
      // least 4.5:1 (WCAG AA) on white and slate-50/100 backgrounds: brand and
      // danger from shade 600 up, muted as it is. An alert of each kind
      // (views.Alert) is drawn in its own: shade 800 on 50.
      colors: {
        brand: colors.indigo,
        danger: colors.red,
        muted: colors.slate[600],
        info: colors.sky,
        success: colors.green,
        warning: colors.amber,
      },
      // The UI kit's spacing: buttons and inputs share their height, cards
      // their padding.
      spacing: {
        'control-x': '1rem',
        'control-y': '0.5rem',
        card: '1.5rem',
      },
    },
  },
  plugins: [],
};
