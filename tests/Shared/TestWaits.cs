using System.IO.Pipelines;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// The bounded waits every test project shares. A wait that runs out fails the test with a message:
/// the bound is far above any expected time, so a miss means a hang or a lost event, not a slow machine.
/// </summary>
internal static class TestWaits
{
    /// <summary>The bound on every wait.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; fails the test, naming <paramref name="what"/>,
    /// when it still does not hold after <paramref name="limit"/> (default <see cref="Bound"/>).
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what = "the condition", TimeSpan? limit = null)
    {
        var bound = limit ?? Bound;
        var deadline = Environment.TickCount64 + (long)bound.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Timed out after {bound.TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>As <see cref="WaitUntilAsync(Func{bool}, string, TimeSpan?)"/>, for a condition that has to await (a request, say).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what = "the condition", TimeSpan? limit = null)
    {
        var bound = limit ?? Bound;
        var deadline = Environment.TickCount64 + (long)bound.TotalMilliseconds;
        while (!await condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Timed out after {bound.TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Completes when <paramref name="token"/> is cancelled; fails the test past <see cref="Bound"/>.</summary>
    public static async Task WaitAsync(CancellationToken token, string what = "the cancellation")
    {
        var cancelled = new TaskCompletionSource();
        using var registration = token.Register(() => cancelled.TrySetResult());
        if (await Task.WhenAny(cancelled.Task, Task.Delay(Bound)) != cancelled.Task)
        {
            Assert.Fail($"Timed out after {Bound.TotalSeconds} s waiting for {what}.");
        }
    }

    /// <summary>Everything <paramref name="reader"/> yields until the writer completes.</summary>
    public static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var all = new List<byte>();
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                all.AddRange(segment.ToArray());
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return [.. all];
            }
        }
    }
}
