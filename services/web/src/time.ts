// send_time is microseconds since the epoch.

export function sendTimeDate(sendTime: number): Date {
  return new Date(Math.floor(sendTime / 1000));
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });

/** "14:05" today, "Mar 3, 14:05" on another day. */
export function formatSendTime(sendTime: number, now: Date = new Date()): string {
  const date = sendTimeDate(sendTime);
  return date.toDateString() === now.toDateString() ? timeOfDay.format(date) : dayAndTime.format(date);
}
