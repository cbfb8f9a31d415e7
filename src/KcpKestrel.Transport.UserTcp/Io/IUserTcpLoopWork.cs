namespace KcpKestrel.Transport.UserTcp.Io;

/// <summary>Work an app thread hands to a loop (<see cref="UserTcpLoop.Post"/>); run on the loop thread.</summary>
internal interface IUserTcpLoopWork
{
    /// <summary>Runs the work at <paramref name="now"/> (the loop's ms clock).</summary>
    void Run(uint now);
}
