import type { ReactNode } from "react";
import { Nav } from "../components/nav";
import { Providers } from "./providers";
import "./globals.css";

export const metadata = { title: "Trellis", description: "The Trellis service mesh dashboard" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <Nav />
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
