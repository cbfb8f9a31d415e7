namespace KcpKestrel.Shared;

/// <summary>An intrusive node of a <see cref="TimerWheel"/>, so scheduling allocates nothing.</summary>
internal abstract class TimerWheelEntry
{
    internal TimerWheelEntry? WheelNext;
    internal TimerWheelEntry? WheelPrev;
    internal TimerWheelEntry? WheelFireNext;
    internal uint WheelDue;
    internal int WheelSlot = -1;

    /// <summary>Whether the entry is scheduled.</summary>
    public bool IsScheduled => WheelSlot >= 0;

    /// <summary>Called on the loop thread when the entry is due.</summary>
    public abstract void OnTimer(uint now);
}
