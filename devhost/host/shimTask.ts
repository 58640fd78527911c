/**
 * The .NET tasks of the shim's replay (shim.ts), reduced to what the replay needs: settled once,
 * succeeded or not, with continuations run at once (DurableTask.Core runs an orchestration's continuations
 * inline, in history order). Task.WhenAll ends when every child has ended (failed or not), Task.WhenAny
 * when the first has.
 */
export class ShimTask {
  private settledWith: boolean | undefined;
  private readonly continuations: ((succeeded: boolean) => void)[] = [];

  get isSettled(): boolean {
    return this.settledWith !== undefined;
  }

  settle(succeeded: boolean): void {
    if (this.settledWith !== undefined) return;
    this.settledWith = succeeded;
    for (const continuation of this.continuations.splice(0)) continuation(succeeded);
  }

  onSettled(continuation: (succeeded: boolean) => void): void {
    if (this.settledWith === undefined) this.continuations.push(continuation);
    else continuation(this.settledWith);
  }

  static all(children: readonly ShimTask[]): ShimTask {
    const all = new ShimTask();
    let remaining = children.length;
    let succeeded = true;
    if (remaining === 0) all.settle(true);
    for (const child of children) {
      child.onSettled((childSucceeded) => {
        succeeded &&= childSucceeded;
        if (--remaining === 0) all.settle(succeeded);
      });
    }
    return all;
  }

  static any(children: readonly ShimTask[]): ShimTask {
    const any = new ShimTask();
    for (const child of children) child.onSettled(() => any.settle(true));
    return any;
  }
}

export function settledTask(succeeded: boolean): ShimTask {
  const task = new ShimTask();
  task.settle(succeeded);
  return task;
}
