/**
 * Demo pictures: a few cats drawn as SVG and rendered to PNG by the image library, so a fresh
 * install can hand out pictures without any network.
 */
import sharp from 'sharp';

const COATS = [
  { fur: '#f4a259', stripe: '#c96f2d', bg: '#fdf0d5', name: 'ginger' },
  { fur: '#6c757d', stripe: '#495057', bg: '#e9ecef', name: 'grey' },
  { fur: '#2b2d42', stripe: '#1d1e2c', bg: '#edf2f4', name: 'black' },
  { fur: '#f8f9fa', stripe: '#ced4da', bg: '#d8f3dc', name: 'white' },
  { fur: '#bc8a5f', stripe: '#8b5e34', bg: '#ffe8d6', name: 'tabby' },
  { fur: '#e9c46a', stripe: '#f4a261', bg: '#caf0f8', name: 'cream' },
];

function catSvg(coat: (typeof COATS)[number], tilt: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360" viewBox="0 0 480 360">
  <rect width="480" height="360" fill="${coat.bg}"/>
  <g transform="rotate(${tilt} 240 200)">
    <polygon points="150,120 175,30 225,100" fill="${coat.fur}" stroke="${coat.stripe}" stroke-width="6"/>
    <polygon points="330,120 305,30 255,100" fill="${coat.fur}" stroke="${coat.stripe}" stroke-width="6"/>
    <ellipse cx="240" cy="190" rx="120" ry="100" fill="${coat.fur}" stroke="${coat.stripe}" stroke-width="6"/>
    <path d="M200 110 q40 -20 80 0" stroke="${coat.stripe}" stroke-width="8" fill="none"/>
    <ellipse cx="195" cy="180" rx="18" ry="24" fill="#ffffff"/>
    <ellipse cx="285" cy="180" rx="18" ry="24" fill="#ffffff"/>
    <ellipse cx="198" cy="184" rx="8" ry="16" fill="#1b4332"/>
    <ellipse cx="288" cy="184" rx="8" ry="16" fill="#1b4332"/>
    <polygon points="228,215 252,215 240,229" fill="#e5989b"/>
    <path d="M240 229 q-14 16 -28 4 M240 229 q14 16 28 4" stroke="#6d6875" stroke-width="4" fill="none"/>
    <path d="M150 215 h-70 M150 228 l-66 14 M330 215 h70 M330 228 l66 14" stroke="#6d6875" stroke-width="3"/>
  </g>
</svg>`;
}

/** PNG pictures of drawn cats, with their file names. */
export async function drawKitties(): Promise<{ name: string; png: Buffer }[]> {
  return Promise.all(
    COATS.map(async (coat, i) => ({
      name: `demo-cat-${coat.name}.png`,
      png: await sharp(Buffer.from(catSvg(coat, (i % 3) * 6 - 6)))
        .png()
        .toBuffer(),
    })),
  );
}
