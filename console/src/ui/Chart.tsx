import { useEffect, useRef } from "preact/hooks";
import type uPlot from "uplot";
import { formatNumber } from "./format";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
}

/** A time series chart (uPlot, loaded with the first chart), described for screen
 * readers and followed by its data as a table. `times` are epoch seconds. */
export function TimeChart({ title, times, series, height = 220, kind = "line" }: { title: string; times: number[]; series: Series[]; height?: number; kind?: "line" | "bars" }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let chart: uPlot | null = null;
    let resize: ResizeObserver | null = null;
    let cancelled = false;
    import("uplot").then(({ default: UPlot }) => {
      if (cancelled || !box.current) return;
      const paths = kind === "bars" ? UPlot.paths.bars!({ size: [0.6, 40] }) : undefined;
      const width = box.current.clientWidth || 600;
      chart = new UPlot(
        {
          width,
          height,
          legend: { show: series.length > 1 },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true } },
          axes: [{}, { values: (_self, ticks) => ticks.map((tick) => formatNumber(tick)) }],
          series: [
            {},
            ...series.map((line) => ({
              label: line.label,
              stroke: line.color,
              fill: kind === "bars" ? line.color : `${line.color}22`,
              width: 2,
              ...(paths ? { paths } : {}),
            })),
          ],
        },
        [times, ...series.map((line) => line.values)] as uPlot.AlignedData,
        box.current,
      );
      resize = new ResizeObserver(() => {
        if (box.current && chart) chart.setSize({ width: box.current.clientWidth, height });
      });
      resize.observe(box.current);
    });
    return () => {
      cancelled = true;
      resize?.disconnect();
      chart?.destroy();
    };
  }, [times, series, height, kind]);
  const day = (time: number) => new Date(time * 1000).toLocaleDateString();
  const totals = series.map((line) => `${line.label}: ${formatNumber(line.values.reduce<number>((sum, value) => sum + (value ?? 0), 0))}`);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-canvas" role="img" aria-label={`${title}. Totals: ${totals.join(", ")}.`} />
      <details>
        <summary>{title}: data</summary>
        <table>
          <caption class="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              {series.map((line) => (
                <th scope="col" class="number">
                  {line.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {times.map((time, index) => (
              <tr key={time}>
                <th scope="row">{day(time)}</th>
                {series.map((line) => (
                  <td class="number">{formatNumber(line.values[index])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
