using System.Collections.Concurrent;
using KcpKestrel.Shared;
using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Io;

/// <summary>
/// One I/O loop: a thread that owns one packet queue, its timer wheel and everything driven from them (the TCP stack
/// and its connections). Each turn waits on the queue until the wheel's next deadline or a wake-up, reads the waiting
/// packets into the receiver, fires what the wheel has due, then runs the work app threads posted. Nothing here
/// allocates per packet: one receive buffer, and work items that are the connections themselves.
/// </summary>
internal sealed class UserTcpLoop : IDisposable
{
    // Packets read per turn before the timers and posted work get their turn, so a flood cannot starve them.
    private const int ReceiveBatch = 256;

    private readonly IPacketQueue _queue;
    private readonly byte[] _buffer;
    private readonly ConcurrentQueue<IUserTcpLoopWork> _work = new();
    private readonly Thread _thread;
    private readonly long _clockOrigin;
    private volatile bool _stopping;
    private Exception? _fault;

    /// <param name="name">The thread's name.</param>
    /// <param name="queue">The queue this loop owns (disposed with it).</param>
    /// <param name="mtu">The largest packet the queue carries.</param>
    public UserTcpLoop(string name, IPacketQueue queue, int mtu)
    {
        _queue = queue;
        Mtu = mtu;
        _buffer = new byte[Math.Max(mtu, 1280)];
        _clockOrigin = Environment.TickCount64;
        _thread = new Thread(Run) { Name = name, IsBackground = true };
    }

    /// <summary>The loop's one timer wheel (ms slots).</summary>
    public TimerWheel Timers { get; } = new();

    /// <summary>What handles packets and timers; set before <see cref="Start"/>.</summary>
    public IUserTcpLoopHandler? Handler { get; set; }

    /// <summary>The largest packet the queue carries.</summary>
    public int Mtu { get; }

    /// <summary>The queue, for the packet writer on this loop.</summary>
    public IPacketQueue Queue => _queue;

    /// <summary>A scratch buffer for the loop thread (received bytes nobody wants are read into it and dropped).</summary>
    public byte[] Scratch { get; } = new byte[16 * 1024];

    /// <summary>The loop's clock: ms since the loop was made, wrapping (RFC 9293 style arithmetic on it is modular).</summary>
    public uint Now => (uint)(Environment.TickCount64 - _clockOrigin);

    /// <summary>
    /// The time of the current turn (loop thread): what every call into TCP during the turn is given. Events raised in
    /// the middle of a turn must use it, not <see cref="Now"/>, or a later send in the same turn would carry an older
    /// timestamp than an earlier one (TSval must not go back: the peer's PAWS drops such segments).
    /// </summary>
    public uint TurnNow { get; private set; }

    /// <summary>Whether the caller is this loop's thread.</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Whether the loop thread ended on an exception (a bug: the stack never throws on input).</summary>
    public Exception? Fault => _fault;

    /// <summary>Starts the thread.</summary>
    public void Start() => _thread.Start();

    /// <summary>Runs <paramref name="work"/> on the loop thread soon; any thread.</summary>
    public void Post(IUserTcpLoopWork work)
    {
        _work.Enqueue(work);
        _queue.Wake();
    }

    /// <summary>Runs <paramref name="action"/> on the loop and returns its result (setup and shutdown, not hot paths: allocates).</summary>
    public Task<T> InvokeAsync<T>(Func<uint, T> action)
    {
        var work = new DelegateWork<T>(action);
        if (_stopping)
        {
            return Task.FromException<T>(new ObjectDisposedException(_thread.Name));
        }

        Post(work);
        return work.Task;
    }

    /// <summary>Stops the thread after its current turn and waits for it (bounded); the queue is disposed.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _queue.Wake();
        if (_thread.IsAlive && !IsLoopThread)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }

        _queue.Dispose();
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                var now = Now;
                var timeout = _work.IsEmpty ? Timers.NextTimeout(now) : 0;
                _queue.Wait(timeout);
                if (_stopping)
                {
                    break;
                }

                now = Now;
                TurnNow = now;
                var handler = Handler;
                for (var i = 0; i < ReceiveBatch; i++)
                {
                    var length = _queue.TryReceive(_buffer);
                    if (length <= 0)
                    {
                        break;
                    }

                    handler?.OnPacket(_buffer.AsSpan(0, length), now);
                }

                if (handler is null)
                {
                    Timers.Advance(now);
                }
                else
                {
                    handler.RunTimers(now);
                }

                RunPosted(now);
            }
        }
        catch (Exception e)
        {
            // A bug, not an input: keep it for the listener's logs and end the loop rather than the process.
            _fault = e;
        }
        finally
        {
            // Work posted after the end (a late dispose) still runs, so no caller waits forever.
            _stopping = true;
            RunPosted(Now);
        }
    }

    private void RunPosted(uint now)
    {
        // Only what was queued when the turn began: work that posts more waits for the next turn.
        for (var n = _work.Count; n > 0 && _work.TryDequeue(out var work); n--)
        {
            work.Run(now);
        }
    }

    private sealed class DelegateWork<T>(Func<uint, T> action) : IUserTcpLoopWork
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _completion.Task;

        public void Run(uint now)
        {
            try
            {
                _completion.TrySetResult(action(now));
            }
            catch (Exception e)
            {
                _completion.TrySetException(e);
            }
        }
    }
}
