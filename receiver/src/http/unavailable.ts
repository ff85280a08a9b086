/** The message of each 503 answer (the webhook's and the targets API's). */
export const UNAVAILABLE_MESSAGES = {
  shutting_down: 'the receiver is shutting down; retry',
  docker_unavailable: 'the Docker engine cannot be reached; retry',
} as const;
